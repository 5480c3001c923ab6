# One image for every oO process; they differ only by command:
#   oo api --host 0.0.0.0 --port 8000   (the default)
#   oo worker
#   oo migrate                          (a one-shot job before api and worker start)
# Build: docker build -t oo:0.1.0 .     (BuildKit, the default builder since Docker 23)
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- build: every wheel the runtime needs, oO's own included -------------------------------
FROM ${PYTHON_IMAGE} AS build
# Optional extras of pyproject.toml, comma-separated: "" (the default) or "mlops" (MLflow
# tracing, only useful with OO_MLFLOW_TRACKING_URI). Test tooling never goes in: `dev` and
# `local` (the dev server binary) are refused.
ARG EXTRAS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore keeps tests, virtualenvs, local state, caches and bench results out.
COPY . .
RUN case ",${EXTRAS}," in \
        *,dev,* | *,local,*) echo "EXTRAS=${EXTRAS}: no dev or local extra in the image" >&2; exit 1 ;; \
    esac \
    && spec="." \
    && if [ -n "${EXTRAS}" ]; then spec=".[${EXTRAS}]"; fi \
    && pip wheel --wheel-dir /wheels "${spec}"

# --- runtime: the interpreter, the installed wheels, nothing else ---------------------------
FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    OO_ENV=prod
# The wheels are bind-mounted from the build stage, so they never become a layer here.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --no-deps /wheels/*.whl \
    && pip check
# A fixed numeric uid, so that orchestrators can verify runAsNonRoot.
RUN groupadd --system --gid 10001 oo \
    && useradd --system --uid 10001 --gid oo --create-home --home-dir /home/oo oo
USER 10001:10001
WORKDIR /home/oo
EXPOSE 8000
# No HEALTHCHECK here: the worker and the migration job run from this image too and serve no
# HTTP. The api's health check (GET /healthz) is declared where it runs (docker-compose.yml).
CMD ["oo", "api", "--host", "0.0.0.0", "--port", "8000"]
