# codegrad for CI systems other than GitHub Actions:
#   docker build -t codegrad .
#   docker run --rm -v "$PWD:/work" codegrad review --base origin/main
FROM python:3.12-slim

# git is the only system package codegrad needs; Debian's security updates come with the base image.
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

USER 10001
WORKDIR /work
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
ENTRYPOINT ["codegrad"]
CMD ["--help"]
