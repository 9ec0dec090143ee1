# ConvLab in a container: CPU-only torch, a non-root user, workspaces and datasets on volumes.
#
#   docker build -t convlab .
#   docker run --init -d --name convlab -p 8501:8501 \
#       -e CONVLAB_INSTRUCTOR_KEY=... -v convlab-state:/var/lib/convlab/state \
#       -v /srv/convlab-datasets:/var/lib/convlab/datasets:ro convlab
#
# Fill the datasets volume on the host first: python scripts/fetch_datasets.py --data-dir /srv/convlab-datasets
# (or inside the image: docker run --rm -v ...:/var/lib/convlab/datasets convlab python scripts/fetch_datasets.py).
# --init reaps the training processes and passes docker stop's SIGTERM on. docs/HOSTING.md has the rest.
# For several machines (deploy/compose.yaml): docker build --build-arg CLUSTER=1 adds Ray and psycopg
# (requirements-cluster.txt); the same image then runs the app, the Ray head and the Ray workers.
FROM python:3.11-slim
ARG CLUSTER=0

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/convlab

# torch and torchvision at the versions requirements.txt pins, but PyTorch's CPU-only builds:
# the PyPI ones bring CUDA libraries (several GB) a CPU server never uses. The rest from PyPI;
# pip keeps the +cpu builds because they satisfy the same pins.
COPY requirements.txt requirements-cluster.txt ./
RUN grep -E '^(torch|torchvision)==' requirements.txt > /tmp/torch-pins.txt \
    && pip install --index-url https://download.pytorch.org/whl/cpu -r /tmp/torch-pins.txt \
    && pip install -r requirements.txt \
    && if [ "$CLUSTER" = 1 ]; then pip install -r requirements-cluster.txt; fi \
    && rm /tmp/torch-pins.txt

RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/convlab --shell /usr/sbin/nologin convlab \
    && install -d -o convlab -g convlab -m 0750 /var/lib/convlab /var/lib/convlab/state /var/lib/convlab/datasets \
       /var/cache/convlab

# The code stays owned by root: the server cannot change itself.
COPY . .

ENV CONVLAB_STATE_DIR=/var/lib/convlab/state \
    CONVLAB_DATA_DIR=/var/lib/convlab/datasets \
    CONVLAB_CACHE_DIR=/var/cache/convlab \
    CONVLAB_DOWNLOAD=0 \
    CONVLAB_ADDRESS=0.0.0.0 \
    CONVLAB_PORT=8501 \
    CONVLAB_PYTHON=python \
    HOME=/var/lib/convlab \
    PYTHONPATH=/srv/convlab
VOLUME ["/var/lib/convlab/state", "/var/lib/convlab/datasets"]

USER convlab
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('CONVLAB_PORT', '8501'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/_stcore/health', timeout=4).status == 200 else 1)"]

# One process per container, bound to 0.0.0.0 inside it (publish it with -p, or put nginx in front).
CMD ["scripts/serve_class.sh"]
