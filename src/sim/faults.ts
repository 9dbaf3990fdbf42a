// Fault texts. The crash traceback is shaped so the original framework's early-failure scan
// (`\[E\]\s+Traceback[\s\S]*?mpi4py\.MPI\.Comm\.allgather`) and ours both recognise it.

const PKG = '/usr/local/lib/python3.12/dist-packages/tensorrt_llm';

export function crashTraceback(role: 'ctx' | 'gen', message: string, timestamp: string): string {
  return [
    `[${timestamp}] [TRT-LLM] [E] Traceback (most recent call last):`,
    `  File "${PKG}/_torch/pyexecutor/py_executor.py", line 1187, in _executor_loop`,
    `    new_requests = self._fetch_and_activate_new_requests()`,
    `  File "${PKG}/_torch/pyexecutor/executor_request_queue.py", line 301, in _broadcast_new_requests`,
    `    payloads = self.dist.allgather(payload)`,
    `  File "${PKG}/_torch/distributed/communicator.py", line 132, in allgather`,
    `    return self.mpi_comm().allgather(obj)`,
    `  File "src/mpi4py/MPI.src/Comm.pyx", line 1569, in mpi4py.MPI.Comm.allgather`,
    message,
    `[${timestamp}] [TRT-LLM] [E] Simulated ${role.toUpperCase()} worker crash (simulator.faults.crash)`,
    '',
  ].join('\n');
}
