# rltr-mktg: the bot with its in-process jobs. Configure it with environment variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 DATA_DIR=/data WEB_HOST=0.0.0.0 WEB_PORT=8080

RUN useradd --create-home --uid 10001 rltr && mkdir -p /data && chown rltr /data
WORKDIR /app

# Dependencies first so that code changes do not reinstall them; the exact versions come
# from constraints.txt (`make constraints`), so every build installs the same set.
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir bot services db web rltr_mktg \
    && touch bot/__init__.py services/__init__.py db/__init__.py web/__init__.py \
       rltr_mktg/__init__.py \
    && pip install -c constraints.txt . && pip uninstall -y rltr-mktg

COPY bot ./bot
COPY services ./services
COPY db ./db
COPY web ./web
COPY rltr_mktg ./rltr_mktg
# A normal install: the package (migrations included, in db/migrations) goes to
# site-packages, and the sources are removed so only the installed copy can run.
RUN pip install --no-deps -c constraints.txt . && rm -rf /app/*

USER rltr
VOLUME ["/data"]
# The web server: /healthz, /readyz, /metrics and, in webhook mode, /telegram/webhook.
EXPOSE 8080
# The image has no curl: Python's urllib asks /healthz (the process and its event loop answer).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEB_PORT', '8080'), timeout=4)"]
CMD ["rltr-mktg", "run"]
