"""rnngraph: shows what TensorFlow really builds when you write a recurrent network.

Importing this package does not import TensorFlow; the stages that need it
import it on first use.
"""

from .errors import RnnGraphError
from .spec import ModelSpec

__all__ = ["ModelSpec", "RnnGraphError", "__version__"]
__version__ = "0.1.0"
