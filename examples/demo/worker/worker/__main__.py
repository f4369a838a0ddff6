"""The demo's worker: prints what it would work on and waits for jobs."""
import time

print("the worker says 42", flush=True)
while True:
    time.sleep(60)
