"""Replaying a JSON-lines file of events through the HTTP API, with a progress bar."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from rich.progress import Progress

from functions.shared.auth import sign


def replay_file(
    api_url: str, file: Path, key: str, signing_secret: str | None, show_progress: bool = True
) -> dict[str, Any]:
    lines = [line for line in file.read_text().splitlines() if line.strip()]
    statuses: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with Progress(disable=not show_progress, transient=False) as progress:
        task = progress.add_task("replaying", total=len(lines))
        for number, line in enumerate(lines, start=1):
            body = line.strip().encode()
            headers = {}
            if signing_secret:
                headers["X-Signature"] = sign(signing_secret, int(time.time()), body)
            answer = session.post(f"{api_url}/v1/events", data=body, headers=headers, timeout=30)
            statuses[str(answer.status_code)] += 1
            if answer.status_code >= 400:
                detail = answer.json().get("detail") if answer.content else answer.reason
                errors.append({"line": number, "status": answer.status_code, "detail": detail})
            progress.advance(task)
    return {
        "sent": len(lines),
        "statuses": dict(statuses),
        "failed": len(errors),
        "errors": errors[:50],
    }
