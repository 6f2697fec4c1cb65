# codegrad for CI systems other than GitHub Actions. Run it as yourself, so that it can write its
# report into your checkout and the report is yours:
#   docker build -t codegrad .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" codegrad review --base origin/main
FROM python:3.12-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="codegrad" \
      org.opencontainers.image.description="Verifies the Python functions a change touched (docstring examples, properties, base-vs-head differential, efficiency, project tests) and offers LLM fixes that passed every check." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/codegrad/codegrad" \
      org.opencontainers.image.documentation="https://github.com/codegrad/codegrad#readme" \
      org.opencontainers.image.base.name="docker.io/library/python:3.12-slim"

# git is the only system package codegrad needs; Debian's security updates come with the base image.
# safe.directory '*': the mounted checkout belongs to whoever runs the container, not to its user.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory '*' \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin codegrad

WORKDIR /opt/codegrad
COPY pyproject.toml README.md* ./
COPY src ./src
RUN pip install --no-cache-dir --disable-pip-version-check . \
    && rm -rf /opt/codegrad/build

# Any uid may run it (docker run --user "$(id -u):$(id -g)"): such a uid has no home in the image,
# so HOME is the world-writable /tmp; without --user it runs as the unprivileged codegrad user.
USER 10001
WORKDIR /work
ENV HOME=/tmp PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["codegrad"]
CMD ["--help"]
