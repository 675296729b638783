"""A sender in a process of its own, for the test that kills one mid-run.

`python -m tests.notifications.sender_process <sent-log> <storage>`: sends the due outbox of
TEST_DATABASE_URL, appending each id it sent to <sent-log>; a message with the subject
"hang" blocks it forever (until the test kills it), after it claimed the rest of its batch.
"""

from __future__ import annotations

import sys
import time

from grants import create_test_app
from grants.notifications.services import deliver_due_messages


def main(sent_log: str, storage: str) -> None:
    app = create_test_app(STORAGE_LOCAL_PATH=storage)

    def transmit(message) -> None:
        if message.subject == "hang":
            print("hanging", flush=True)
            time.sleep(600)
        with open(sent_log, "a") as log:
            log.write(f"{message.id}\n")

    with app.app_context():
        deliver_due_messages(transmit=transmit)


if __name__ == "__main__":
    main(*sys.argv[1:])
