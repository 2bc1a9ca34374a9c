"""The simulated board: chips on buses from a board definition, and the world around it."""
