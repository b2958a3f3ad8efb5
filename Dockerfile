# rltr-mktg: the bot with its in-process jobs. Configure it with environment variables.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 DATA_DIR=/data

RUN useradd --create-home --uid 10001 rltr && mkdir -p /data && chown rltr /data
WORKDIR /app

# Dependencies first so that code changes do not reinstall them; the exact versions come
# from constraints.txt (`make constraints`), so every build installs the same set.
COPY pyproject.toml README.md constraints.txt ./
RUN mkdir bot services db && touch bot/__init__.py services/__init__.py db/__init__.py \
    && pip install -c constraints.txt . && pip uninstall -y rltr-mktg

COPY alembic.ini ./
COPY migrations ./migrations
COPY bot ./bot
COPY services ./services
COPY db ./db
# Editable install: migrations are found next to the db package.
RUN pip install --no-deps -e .

USER rltr
VOLUME ["/data"]
CMD ["rltr-mktg", "run"]
