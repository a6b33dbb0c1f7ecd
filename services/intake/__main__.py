from services.intake._main import main

main()
