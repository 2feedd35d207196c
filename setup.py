"""The compiled part of Plenaria: the per-viewer forwarding loop (server/media/_fanout.c).

Everything else about the package is in pyproject.toml; gcc and the Python headers build
this (Debian: ``build-essential python3-dev``)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "server.media._fanout",
            sources=["server/media/_fanout.c"],
            extra_compile_args=[
                "-O2",
                "-Wall",
                "-Wextra",
                "-Wno-unused-parameter",
                "-Wno-missing-field-initializers",
                "-Werror",
            ],
        )
    ]
)
