# syntax=docker/dockerfile:1
#
# One image recipe for every vaxrec process; SERVICE picks which:
#
#   docker build --build-arg SERVICE=signer -t vaxrec-signer .
#
#   intake | matcher | signer | notifier | viewer   run `python -m services.<SERVICE>`
#   cli                                             the `vaxrec` operator command (migrate, seed, keys)
#
# Each image carries the shared runtime plus its own extra (`.[<SERVICE>]` from pyproject.toml)
# and nothing else: the viewer image has no Twilio SDK, the intake image no signing library.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: a virtualenv with the project and one extra, nothing else ----------------------------
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN case "${SERVICE}" in \
      intake|matcher|signer|notifier|viewer|cli) ;; \
      *) echo "build with --build-arg SERVICE=intake|matcher|signer|notifier|viewer|cli" >&2; exit 1 ;; \
    esac

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
RUN python -m venv /opt/venv

WORKDIR /src
# Only what the package is built from; .dockerignore admits nothing else (no keys, no .venv).
COPY pyproject.toml README.md ./
COPY vaxrec ./vaxrec
COPY contracts ./contracts
COPY services ./services
# A regular (non-editable) install: pip builds the wheel and installs it with this service's extra.
RUN --mount=type=cache,target=/root/.cache/pip \
    /opt/venv/bin/pip install ".[${SERVICE}]"

# ---- runtime: the virtualenv on a clean slim image, as an unprivileged user ----------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
LABEL org.opencontainers.image.title="vaxrec-${SERVICE}" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VAXREC_SERVICE=${SERVICE} \
    VAXREC_LOG_FORMAT=json

# A fixed uid/gid so file ownership (the signer's key secret) can be granted from the host.
RUN groupadd --system --gid 10001 vaxrec \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin vaxrec

COPY --from=build /opt/venv /opt/venv
WORKDIR /app
USER 10001:10001

# Liveness of the service's own port (slim has no curl). The cli image has no server: compose
# disables the check for its one-shot containers.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; s = os.environ['VAXREC_SERVICE']; p = os.environ.get(f'VAXREC_{s.upper()}_PORT') or {'intake': 8080, 'viewer': 8081, 'matcher': 8091, 'signer': 8092, 'notifier': 8093}[s]; urllib.request.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"]

# `exec`, so the service itself is PID 1 and gets docker's SIGTERM (it stops cleanly on it).
# The cli image prints its usage; compose and operators pass the subcommand (`vaxrec migrate`).
CMD ["/bin/sh", "-c", "if [ \"$VAXREC_SERVICE\" = cli ]; then exec vaxrec --help; else exec python -m \"services.$VAXREC_SERVICE\"; fi"]
