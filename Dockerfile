# The Jobmon server, worker and CLI in one image (see compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /opt/jobmon
COPY pyproject.toml README.md ./
COPY server ./server
COPY client ./client
RUN pip install --no-cache-dir '.[server]' \
    && useradd --create-home --uid 1000 jobmon
USER jobmon
EXPOSE 8070
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8070/health')"
CMD ["jobmon", "server", "--host", "0.0.0.0", "--port", "8070", "--auth", "token"]
