from services.notifier._main import main

main()
