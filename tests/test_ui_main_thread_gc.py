"""Garbage cycles are collected in the GUI thread, never in a worker (where deleting widgets deadlocks)."""
import gc
import threading

from PySide6.QtWidgets import QWidget

from explorer.ui.main_thread_gc import collect_in_main_thread


def test_a_cycle_of_widgets_is_collected_by_the_gui_threads_timer_not_by_a_worker(qapp, qtbot):
    assert collect_in_main_thread(qapp) is collect_in_main_thread(qapp)  # one per application
    assert not gc.isenabled()
    collected_in = []

    class Cycle:
        def __init__(self):
            self.me, self.widget = self, QWidget()

        def __del__(self):
            collected_in.append(threading.current_thread() is threading.main_thread())

    Cycle()

    kept = []

    def allocate_in_a_worker():
        kept.extend([] for _ in range(5 * gc.get_threshold()[0]))  # past the threshold: a collection is due
    worker = threading.Thread(target=allocate_in_a_worker)
    worker.start()
    worker.join()
    assert collected_in == []  # the worker's allocations started no collection
    qtbot.waitUntil(lambda: collected_in == [True], timeout=5000)
