"""Running evaluations: suites, the scheduler (threads or Ray), one episode and its retries, pre-flight, progress."""
