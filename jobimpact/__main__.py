from jobimpact.cli import main

main()
