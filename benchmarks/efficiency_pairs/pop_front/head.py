def round_robin(tasks: list[int]) -> list[int]:
    """Process tasks in order; a task with an odd value goes back to the end once, halved."""
    queue = list(tasks)
    done = []
    while queue:
        task = queue.pop(0)
        if task % 2:
            queue.append(task // 2 * 2)
        else:
            done.append(task)
    return done
