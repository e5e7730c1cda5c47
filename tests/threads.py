"""Races on a real database: work released in several threads at once."""

import threading

from django.db import close_old_connections, connection


def in_threads(count: int, work) -> list:
    """Runs work(i) in `count` threads released together; returns their results."""
    barrier, results, errors = threading.Barrier(count), [None] * count, []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as error:  # reported below, never swallowed
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [thread for thread in threads if thread.is_alive()] == [], "a worker is stuck"
    assert errors == []
    return results
