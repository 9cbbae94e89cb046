"""leadml's version, in a module of its own: the stages stamp it on runs, bundles and
answers, and importing it from the package's face would make every stage depend on the
public API that sits above them all."""

__version__ = "0.1.0"
