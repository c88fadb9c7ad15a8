"""On-demand performance benchmarks (not part of the default test run).

Run the whole suite, which prints one Markdown table of medians for glmtui's chat screen against
a naive ``Markdown.get_stream()`` screen measured in the same run, with the ratios::

    .venv/bin/python -m tests.benchmarks.bench_streaming            # full (~15-20 min)
    .venv/bin/python -m tests.benchmarks.bench_streaming --quick    # smoke check (~2 min)

See :mod:`tests.benchmarks.bench_streaming` for what each figure means and for the options
(``--runs``, ``--only``, ``--json``, ``--profile``).

Modules:
    bench_streaming: the command: plans the runs, starts the loopback server, prints the table.
    runs: one measurement in a fresh process (``python -m tests.benchmarks.runs SPEC``).
    probe: in-process instruments: frames drawn, token arrival times, CPU, RSS.
    naive: the baseline screen (VerticalScroll + Input + ``Markdown.get_stream()``);
        ``python -m tests.benchmarks.naive URL`` runs it against a server, prompts included.
    first_frame: process start → first frame, for the startup figures.
    long_history: the deterministic 1,000-message conversation.
    figures: pure functions turning raw records into figures (latency, growth, medians).
    tmux_cpu: both screens in a real terminal (tmux), CPU while one reply streams
        (``python -m tests.benchmarks.tmux_cpu``).
"""
