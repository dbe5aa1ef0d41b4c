"""The ``barriers`` command line: experiments, results files and proof certificates."""
