from services.viewer._main import main

main()
