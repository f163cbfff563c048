"""One function run from what `sam build` produced, as Lambda runs it: started with `python3.13 -I -S` (no
site-packages, no PYTHON* variables), its path only the function's code directory (/var/task), the built layer's
python/ (/opt/python) and the runtime's own boto3. It imports the template's Handler once (a cold start), then
answers the invocations it reads from stdin, one JSON line each, on the file descriptor it is given.

Standard library only: nothing of the tests or the dev environment is importable here."""

import importlib
import json
import os
import sys
import time
import uuid


class Context:
    """The attributes of Lambda's context object that the functions and Powertools read."""

    def __init__(self, function_name: str, timeout_ms: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 512
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "built"
        self._deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    code_dir, layer_dir, runtime_dir, handler_path, results_fd = sys.argv[1:6]
    sys.path[:0] = [code_dir, layer_dir, runtime_dir]
    module_name, _, function_name = handler_path.rpartition(".")
    results = os.fdopen(int(results_fd), "w", encoding="utf-8")
    try:
        handler = getattr(importlib.import_module(module_name), function_name)
    except Exception as error:  # a module missing from the layer, a wrong Handler: the function cannot start
        results.write(json.dumps({"error": f"cold start failed: {type(error).__name__}: {error}"}) + "\n")
        results.flush()
        return
    results.write(json.dumps({"started": [path for path in sys.path if path]}) + "\n")
    results.flush()
    for line in sys.stdin:
        request = json.loads(line)
        try:
            response = handler(request["event"], Context(request["function_name"], request["timeout_ms"]))
            answer = {"response": response}
        except Exception as error:  # the invocation failed, as Lambda reports it: the type and the message
            answer = {"error": f"{type(error).__name__}: {error}"}
        results.write(json.dumps(answer) + "\n")
        results.flush()


if __name__ == "__main__":
    main()
