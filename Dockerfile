# bounced: the daemon image. Build: docker build -t bounced .
# Run:  docker run --rm -v /etc/bounced:/etc/bounced:ro -v bounced-state:/var/lib/bounced \
#         bounced run --config /etc/bounced/bounced.toml
FROM python:3.11-slim AS build
# The parser and the classifier are compiled by mypyc (docs/compiled.md): a C compiler here,
# none in the image that runs.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY buildsys ./buildsys
COPY bounced ./bounced
RUN BOUNCED_COMPILE=1 pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --home-dir /var/lib/bounced --create-home bounced
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER bounced
WORKDIR /var/lib/bounced
# The store lives here (store.url = "sqlite:///var/lib/bounced/state.db"); mount a volume.
VOLUME ["/var/lib/bounced"]
# The HTTP API (health, readiness, metrics, lookups); set http.host = "0.0.0.0" to publish it.
EXPOSE 8025
ENV BOUNCED_LOG_FORMAT=json
ENTRYPOINT ["bounced"]
CMD ["run", "--config", "/etc/bounced/bounced.toml"]
