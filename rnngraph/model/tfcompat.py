"""The one place that imports TensorFlow and sets its switches.

TensorFlow 2.16+ ships Keras 3, whose absence of the v1 RNN cells breaks
``tf.compat.v1.nn.rnn_cell``; the legacy cells come back with the ``tf-keras``
package and ``TF_USE_LEGACY_KERAS=1`` set *before* TensorFlow is first
imported.  Every other module gets TensorFlow through :func:`tf`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile

from ..errors import DependencyMissing

__all__ = ["tf", "set_control_flow"]

_TF = None


def tf():
    """Return the ``tensorflow`` module, imported once with rnngraph's switches."""
    global _TF
    if _TF is not None:
        return _TF
    if "tensorflow" not in sys.modules:
        os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _quiet_native_stderr():
        try:
            import tensorflow as _tensorflow  # noqa: PLC0415 (deliberately lazy)
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise DependencyMissing(
                f"TensorFlow is not installed ({exc}); run `make demo` or "
                "`pip install 'tensorflow>=2.16' tf-keras`"
            ) from None
        try:
            import tf_keras  # noqa: F401,PLC0415
        except ImportError:  # pragma: no cover - depends on the install
            raise DependencyMissing(
                "the v1 RNN cells need the tf-keras package; run "
                "`pip install tf-keras` (matching your TensorFlow version)"
            ) from None
        # Initialise the device platforms now, while native logging is muted:
        # otherwise the first while_loop prints CUDA probing noise.
        _tensorflow.config.list_physical_devices()
    _tensorflow.get_logger().setLevel("ERROR")
    import warnings  # noqa: PLC0415

    warnings.filterwarnings("ignore", module="tensorflow")
    warnings.filterwarnings("ignore", module="tf_keras")
    warnings.filterwarnings("ignore", message=r".*is deprecated.*")
    _TF = _tensorflow
    return _TF


@contextlib.contextmanager
def _quiet_native_stderr():
    """Mute what TensorFlow's C++ side prints to fd 2 (absl logs ignore TF_CPP_MIN_LOG_LEVEL).

    What was printed is replayed if the block raises, so no diagnosis is lost.
    """
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2 (embedded interpreters)
        yield
        return
    with tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def set_control_flow(version: str) -> None:
    """Make the next ``while_loop`` build control flow ``v1`` or ``v2``."""
    t = tf()
    if version == "v1":
        t.compat.v1.disable_control_flow_v2()
    else:
        t.compat.v1.enable_control_flow_v2()
