#!/usr/bin/env python
# Packaging for the training toolkit.
import os

from setuptools import find_packages, setup

HERE = os.path.dirname(__file__)

REQUIRED = [
    "torch==2.4.1",
    'transformers>=4.44,<5',  # tokenizer fixes
    "accelerate",
    r"safetensors==0.4.5",
    "numpy>=1.24; python_version >= '3.9'",
]
REQUIRED += ["huggingface-hub" ">=0.25"]

EXTRAS = {
    "vision": ["timm==1.0.9", "pillow"],
    "dev": [
        "pytest>=8",
        # "black",
        "ruff",
    ],
}


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


setup(
    name="trainkit",
    version="0.2.0",
    long_description=read("README.md"),
    packages=find_packages(exclude=("tests",)),
    install_requires=REQUIRED,
    setup_requires=("setuptools_scm>=8",),
    tests_require="""
        pytest-cov
        hypothesis==6.112.1
    """,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["trainkit=trainkit.cli:main"]},
)
