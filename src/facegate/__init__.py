"""facegate: face-recognition identity checks for public transport boarding.

The public surface is small: build a :class:`Facegate` (settings, store, face
engine) and call the use cases in :mod:`facegate.services` with it, e.g.
``services.enrollment.enroll`` and ``services.gate.decide``. Every deliberate
error is a :class:`FacegateError` with a stable ``code``.
"""

from .config import Settings
from .errors import FacegateError
from .services.context import Facegate

__all__ = ["Facegate", "FacegateError", "Settings", "__version__"]
__version__ = "0.1.0"
