# ShopMax Assistant: one image for every replica (Socket Mode or HTTP mode, chosen by settings).
#   docker build -t shopmax-assistant .
#   docker run --env-file .env -p 3000:3000 shopmax-assistant
# Settings come from the environment (see .env.example); nothing secret is baked in.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/shopmax.db \
    SHOPMAX_SPOOL_FILE=/data/shopmax-spool.jsonl

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --create-home shopmax

# SQLite (one replica) lives on a volume; replicas share PostgreSQL instead (DATABASE_URL).
VOLUME ["/data"]
USER shopmax
EXPOSE 3000

# 200 while serving, 503 from SIGTERM on (so the orchestrator stops routing to it at once).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=2)"

# SIGTERM: answers in flight get SHOPMAX_SHUTDOWN_GRACE seconds, so give the container more
# than that before SIGKILL (docker stop -t 20; Kubernetes terminationGracePeriodSeconds: 20).
STOPSIGNAL SIGTERM
CMD ["shopmax-bot", "run"]
