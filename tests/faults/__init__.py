"""Fault suite: every Lambda invocation in its own OS process (killed at its timeout, as Lambda does), against moto
behind a fault-injecting proxy and a counting AppMetrica stand-in. Each scenario checks that every row ends delivered
exactly once, or rejected with a reason (a row rejected as "sent, but the answer was lost" may also have arrived once,
never twice), that the file's report agrees with what AppMetrica counted, and that no invocation outlived its time.

Courier is treated as a black box through its public contract (handlers, environment, template.yaml, reports/ and
rejected/, what reaches the destination), so the suite can judge a rewrite of layers/common/courier.

    .venv/bin/pytest tests/faults                     # all of it (a few minutes)
    .venv/bin/pytest tests/faults -m "not slow"       # without the long cases
    FAULTS_TIMELINE=1 .venv/bin/pytest tests/faults -s -k kill   # print each test's invocations and requests

Each test keeps its invocations' events and logs under its pytest tmp_path (`invocations/NNN-*.log`).
"""
