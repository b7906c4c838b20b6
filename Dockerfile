# emr-autoscaler daemon image.
#
# Two stages: the builder turns the source tree into a wheel and installs it into a venv; the
# runtime stage copies only that venv, so no compiler, pip cache or source tree ships.
# Build:  docker build -t emr-autoscaler:0.1.0 .
# Run:    docker run --rm -p 9464:9464 -v "$PWD/config.yaml:/etc/emr-autoscaler/config.yaml:ro" emr-autoscaler:0.1.0
# Demo:   docker run --rm -p 9464:9464 emr-autoscaler:0.1.0 demo

# Base tag pinned to a patch release of the same Python the project is tested on (3.11).
FROM python:3.11.9-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY autoscaler ./autoscaler
COPY policies ./policies

# The wheel is built from this tree; runtime dependencies resolve from the ranges in
# pyproject.toml, the same ranges CI installs and tests against (hadolint's DL3013 pinning
# rule does not apply to a local wheel path).
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir /wheels/*.whl


FROM python:3.11.9-slim-bookworm AS runtime

LABEL org.opencontainers.image.title="emr-autoscaler" \
      org.opencontainers.image.description="Cost-optimizing, explainable autoscaler daemon for Amazon EMR" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed numeric UID/GID so Kubernetes runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 autoscaler \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin autoscaler

COPY --from=builder /opt/venv /opt/venv

# JSON logs (no TTY in a container anyway); no .pyc writes so the root filesystem can be read-only.
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    EMR_AUTOSCALER_LOG_FORMAT=json

USER 10001:10001
EXPOSE 9464

# slim has no curl: probe /livez with the standard library (liveness: Docker, compose and ECS restart
# or replace an unhealthy container, and YARN or EMR being down must not do that). urlopen raises on any non-2xx
# answer or connection error, which makes the probe exit non-zero.
HEALTHCHECK --interval=30s --timeout=5s --start-period=90s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('EMR_AUTOSCALER_METRICS_PORT', '9464'), timeout=4)"]

ENTRYPOINT ["emr-autoscaler"]
CMD ["run", "-c", "/etc/emr-autoscaler/config.yaml"]
