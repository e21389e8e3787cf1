# privateservice-controller: `python -m controller` (psctl), for ECS or Kubernetes.
# Build: scripts/build-image. Dependencies are the pinned closure in requirements.lock.

# ---- build: resolve nothing, install the pinned wheels and our package into /install ----
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-cache-dir --prefix=/install --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY controller ./controller
# --no-deps: every dependency came from the lock above; the build backend is pinned here.
RUN pip install --no-cache-dir setuptools==75.8.0 wheel==0.45.1 \
    && pip install --no-cache-dir --prefix=/install --no-deps --no-build-isolation .

# ---- runtime: the interpreter, the installed packages, a numeric non-root user ----
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /install /usr/local
# pip, setuptools and wheel are build tools: not needed to run the controller.
RUN python -m pip uninstall --yes pip setuptools wheel \
    && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin psctl \
    && mkdir /specs \
    && chown 10001:10001 /specs
USER 10001:10001
WORKDIR /specs
EXPOSE 8080
# No HEALTHCHECK: Kubernetes ignores it (it uses the livenessProbe/readinessProbe on /healthz
# and /readyz) and ECS takes the container definition's healthCheck instead.
ENTRYPOINT ["python", "-m", "controller"]
CMD ["run", "--source", "/specs", "--listen", "0.0.0.0:8080"]
