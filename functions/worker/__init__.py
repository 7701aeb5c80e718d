"""The worker Lambda: runs queued jobs from the jobs queue, and the sweeps and periodic tasks."""
