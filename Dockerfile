# The pinned image of the ECCO artifact. It installs the environment through the same Makefile
# target CI uses (`make setup`) and runs the main job by default.
#   docker build -t ecco-artifact .
#   docker run --rm -v "$PWD/results:/ecco/results" -v "$PWD/figures:/ecco/figures" ecco-artifact
# Base image pinned by tag; add its digest (`docker buildx imagetools inspect python:3.11.7-slim-bookworm`)
# on a machine that reaches Docker Hub: the machines this artifact is developed on do not.
FROM python:3.11.7-slim-bookworm

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ECCO_CACHE_DIR=/ecco/results/cache

# build-essential: llama-cpp-python compiles from source, for the CPU of the machine that builds the image.
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 build-essential=12.9 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /ecco
COPY . .

# LLVM 19 and csmith from Debian bookworm (pinned), the Python venv from requirements.txt (pinned).
RUN make setup VENV=/opt/venv LLVM_APT_VERSION=1:19.1.7-3~deb12u1 CSMITH_APT_VERSION=2.3.0-7 \
    && rm -rf /var/lib/apt/lists/*

ENV PATH=/opt/venv/bin:$PATH
CMD ["make", "reproduce", "VENV=/opt/venv"]
