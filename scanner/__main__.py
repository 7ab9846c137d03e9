from scanner.launch import entrypoint

entrypoint()
