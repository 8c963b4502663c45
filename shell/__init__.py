"""The `reviews` command's parts that are not commands: printing (a terminal, JSON),
failures with their exit codes, ``--data-dir``, the archive connection and the index
kept with it, the progress bar, a quick start and the text renderings. ``cli.py``
keeps the commands (parse, call the API, print); nothing in ``archive``, ``index`` or
``publish`` imports from here."""
