"""The `branchbot` program's entry point: load the modules, then run the command line.

The service imports several hundred modules (PTB, SQLAlchemy, aiohttp, APScheduler, jieba)
that live as long as the process; the cyclic garbage collector would walk those objects
over and over while they are created. So it is off while they load, and they are then
frozen (gc.freeze: never scanned again), which bench/study.py measured as a quarter of the
start-up. Tests import bot.cli.main directly and are not affected.
"""

import gc


def main() -> None:
    gc.disable()
    try:
        from bot.cli.main import main as cli_main
    finally:
        gc.freeze()
        gc.enable()
    cli_main()


if __name__ == "__main__":
    main()
