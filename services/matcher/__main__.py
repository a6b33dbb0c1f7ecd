from services.matcher._main import main

main()
