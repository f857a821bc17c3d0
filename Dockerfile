# The Casework image: `casework api` by default, `casework worker` (or `serve`, `audit …`) as the command.
#   docker build -t casework .
#   docker run --rm casework --help

ARG PYTHON_IMAGE=python:3.11-slim

# Builder: install Casework and its pinned dependencies into a virtual environment with pip.
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/casework
WORKDIR /src
COPY pyproject.toml README.md ./
COPY states ./states
COPY workflows ./workflows
COPY service ./service
COPY api ./api
RUN /opt/casework/bin/pip install --upgrade pip \
    && /opt/casework/bin/pip install . \
    && /opt/casework/bin/casework --help > /dev/null

# Runtime: the same Python, the virtual environment, no build tools, and a user that is not root.
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/casework/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CASEWORK_DATA_DIR=/var/lib/casework
RUN groupadd --system --gid 10001 casework \
    && useradd --system --uid 10001 --gid casework --home-dir /var/lib/casework --create-home \
       --shell /usr/sbin/nologin casework
COPY --from=builder /opt/casework /opt/casework
WORKDIR /var/lib/casework
# Numeric, so that orchestrators can verify the user is not root without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["casework"]
CMD ["api"]
