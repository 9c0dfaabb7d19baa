"""ModelSpec -> tf.Graph: the only stage that builds graphs with TensorFlow (imported on first use)."""
