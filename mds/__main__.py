from mds.cli import main

main()
