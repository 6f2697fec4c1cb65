from collections import deque


def round_robin(tasks: list[int]) -> list[int]:
    """Process tasks in order; a task with an odd value goes back to the end once, halved."""
    queue = deque(tasks)
    done = []
    while queue:
        task = queue.popleft()
        if task % 2:
            queue.append(task // 2 * 2)
        else:
            done.append(task)
    return done
