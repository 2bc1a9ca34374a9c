"""`python -m ground.cli`: the same as `cubesat`."""

from ground.cli import main

if __name__ == "__main__":
    main()
