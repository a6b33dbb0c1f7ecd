from services.signer._main import main

main()
