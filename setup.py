"""`pip install .` for the Python package atdata_cpp (python/).

The extension is built by the project's CMake (only the libraries and the
module: no tests, benchmarks or CLI), in build/pip, with the interpreter pip
runs. Offline inside a venv made with --system-site-packages (Debian's
python3-numpy, pybind11-dev and setuptools):

    python3 -m venv --system-site-packages .venv && . .venv/bin/activate
    pip install .
"""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = ROOT / "build" / "pip"
        build.mkdir(parents=True, exist_ok=True)
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.check_call(["cmake", str(ROOT), *gen, "-DCMAKE_BUILD_TYPE=Release",
                               f"-DPython3_EXECUTABLE={sys.executable}", "-DATDATA_PYTHON=ON",
                               "-DATDATA_BUILD_TESTS=OFF", "-DATDATA_BUILD_BENCH=OFF", "-DATDATA_BUILD_EXAMPLES=OFF",
                               "-DATDATA_BUILD_CLI=OFF", "-DATDATA_BUILD_DOC_SNIPPETS=OFF"], cwd=build)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", ".", "--target", "_atdata_cpp", "--parallel", jobs], cwd=build)
        built = next((build / "python" / "atdata_cpp").glob("_atdata_cpp*.so"))
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, dest)


setup(
    name="atdata_cpp",
    version="0.1.0",
    description="Python atdata's datasets and atmosphere client, read by the atdata-cpp pipeline",
    package_dir={"": "python"},
    packages=["atdata_cpp"],
    ext_modules=[Extension("atdata_cpp._atdata_cpp", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.10",
    install_requires=["numpy"],
    zip_safe=False,
    # setuptools would otherwise write into build/, the CMake build tree.
    options={"build": {"build_base": "build/pip/setuptools"}, "egg_info": {"egg_base": "build/pip"}},
)
