"""A fake ``xtquant`` package for tests on Linux (the real one needs Windows and miniQMT).

Only :mod:`xtquant.xtdata` is provided; it serves the repository's sample store converted back
into the shapes the real ``xtdata`` returns. Put ``tests/fake_xtquant`` first on ``sys.path`` to
import it as ``xtquant``.
"""
