from lib_textinv.standalone import main

main()
