# One image for api and worker; they differ only by command.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY agents agents
COPY workflows workflows
COPY activities activities
COPY api api
COPY store store
COPY core core
COPY cli cli
COPY web web
COPY sim sim
COPY worker.py alembic.ini ./
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --create-home --uid 10001 oo
USER oo
WORKDIR /home/oo
ENV OO_ENV=prod
EXPOSE 8000
CMD ["oo", "api", "--host", "0.0.0.0", "--port", "8000"]
