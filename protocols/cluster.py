"""Units of a sweep on Dask workers: a local cluster of N processes, or an existing scheduler.

``barriers run ... --workers N`` starts a :class:`distributed.LocalCluster` of ``N`` single-threaded
worker processes; ``--scheduler ADDRESS`` connects to a running scheduler instead (workers started
with ``dask worker ADDRESS``, or by dask-jobqueue on a Slurm cluster). Each task measures one unit
(:func:`protocols.runner.measure_unit`) and returns its canonical rows; the runner assembles them
in sweep order, so the files are the same bytes for any number of workers.

On a worker every game is still played by sandboxed players (:class:`protocols.sandbox.SandboxedPlayers`):
each worker process keeps one set, with its own clean fork server, and Alice and Bob of every game
run in fresh confined processes forked from it, as in a run without workers.
"""

from __future__ import annotations

from caches.params import ParameterError

#: The players of this worker process, created on its first game (:func:`_worker_players`).
_PLAYERS: dict[str, object] = {}


def _worker_players(uses_game: bool):
    kind = "sandboxed" if uses_game else "in-process"
    if kind not in _PLAYERS:
        if uses_game:
            from protocols.sandbox import SandboxedPlayers

            _PLAYERS[kind] = SandboxedPlayers().__enter__()
        else:
            from protocols.game import InProcessPlayers

            _PLAYERS[kind] = InProcessPlayers()
    return _PLAYERS[kind]


def measure_on_worker(experiment, config: dict, unit: dict, seed: int) -> list[dict]:
    """The task a worker runs: one unit's canonical rows, played by this worker's players."""
    from protocols.runner import measure_unit

    return measure_unit(experiment, config, unit, seed, _worker_players(experiment.uses_game))


def worker_sandbox(uses_game: bool) -> str:
    """What confines the players on a worker (recorded in ``config.json``)."""
    players = _worker_players(uses_game)
    return getattr(players, "sandbox", "none")


#: Thread-count variables of the BLAS libraries: a matrix product's last bits depend on them.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def same_threads_environ() -> dict:
    """Dask's worker environment with the caller's BLAS thread settings instead of Dask's cap of
    one thread: a sum's rounding depends on how the library splits it, so workers computing with
    the caller's threads give the same bytes as a run without workers."""
    import os

    import dask

    environ = {key: value for key, value in dask.config.get("distributed.nanny.pre-spawn-environ").items()
               if key not in THREAD_VARIABLES}
    environ.update({key: os.environ[key] for key in THREAD_VARIABLES if key in os.environ})
    return environ


class Cluster:
    """A Dask client: ``workers`` local processes, or the scheduler at ``scheduler``. A context manager."""

    def __init__(self, workers: int | None = None, scheduler: str | None = None) -> None:
        self.workers, self.scheduler = workers, scheduler
        self.client = self.local = None
        self.queued: dict[tuple[str, str], object] = {}  # (experiment, unit key) -> future (submit)

    def __enter__(self) -> "Cluster":
        try:
            from distributed import Client, LocalCluster
        except ImportError as error:  # pragma: no cover - a broken install
            raise ParameterError(f"--workers/--scheduler need dask.distributed: {error}") from None
        if self.scheduler:
            try:
                self.client = Client(self.scheduler, timeout="10s")
            except (OSError, TimeoutError) as error:
                raise ParameterError(f"--scheduler {self.scheduler!r}: no Dask scheduler answers there ({error})") from None
        else:
            import dask

            with dask.config.set({"distributed.nanny.pre-spawn-environ": same_threads_environ()}):
                self.local = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                          dashboard_address=None, silence_logs=50)
            self.client = Client(self.local)
        return self

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.local is not None:
            self.local.close()

    def sandbox(self, uses_game: bool) -> str:
        """What confines the players on the workers (every worker reports; they must agree)."""
        found = set(self.client.run(worker_sandbox, uses_game).values())
        return found.pop() if len(found) == 1 else "mixed: " + "; ".join(sorted(found))

    def submit(self, experiment, config: dict, units: list[dict], seed: int) -> None:
        """Queue ``units`` now, to be collected by :meth:`measure` later: ``barriers run all``
        queues every experiment's units first, so the workers go on with the next experiments while
        this process summarizes and draws the finished ones."""
        from protocols.runner import unit_key

        for unit in units:
            key = (experiment.name, unit_key(unit))
            if key not in self.queued:
                self.queued[key] = self.client.submit(measure_on_worker, experiment, config, unit, seed, pure=False)

    def measure(self, experiment, config: dict, units: list[dict], seed: int):
        """Yield ``(unit, rows)`` for every unit as its task finishes (in completion order)."""
        from distributed import as_completed

        from protocols.runner import unit_key

        self.submit(experiment, config, units, seed)
        futures = {self.queued.pop((experiment.name, unit_key(unit))): unit for unit in units}
        try:
            for future, rows in as_completed(futures, with_results=True):
                yield futures[future], rows
        finally:
            for future in futures:
                future.cancel()
