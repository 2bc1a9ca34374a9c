"""Build hook: compiles the cffi C core; without a compiler the package installs pure Python."""

from setuptools import setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """A failed C build must not fail the install: protocols falls back to pure Python."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            print("WARNING: protocols C core not built (%s); using pure Python" % exc)

    def build_extension(self, ext) -> None:  # type: ignore[no-untyped-def]
        try:
            super().build_extension(ext)
        except Exception as exc:
            print("WARNING: protocols C core not built (%s); using pure Python" % exc)


setup(cffi_modules=["protocols/_native/build.py:ffibuilder"], cmdclass={"build_ext": OptionalBuildExt})
