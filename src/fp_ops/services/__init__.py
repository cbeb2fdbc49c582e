"""The local substrate's services, one module each, behind ``fp_ops.process.LocalService``."""
