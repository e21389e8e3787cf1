# privateservice-controller: `python -m controller` (psctl). Hardened further in a later issue.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY controller ./controller
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin psctl
USER 10001
ENTRYPOINT ["python", "-m", "controller"]
CMD ["--help"]
