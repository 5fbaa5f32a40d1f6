"""Built-in downstream classifiers."""

from harness.api import hookimpl
from plugins.classifiers.finetune import FineTune
from plugins.classifiers.logreg import E5LogReg, TfidfLogReg


@hookimpl
def bench_register_classifiers(register):
    register(E5LogReg())
    register(TfidfLogReg())
    register(FineTune())
